export * from './code.js';
export * from './coupon.js';
export * from './discount.js';
export * from './errors.js';
export * from './events.js';
export * from './issuance.js';
export * from './payment.js';
export * from './policy.js';
