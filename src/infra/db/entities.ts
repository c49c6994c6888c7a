import { BigIntType, EntitySchema } from '@mikro-orm/core';
import type { Coupon, CouponPolicy, CouponStatus } from '../../domain/index.js';

/** A policy row: the domain policy plus bookkeeping the domain does not need. */
export interface PolicyRecord extends CouponPolicy {
  codesGenerated: number;
  budgetSpent: number;
  updatedAt: Date;
}

/** A coupon row: the domain coupon plus how it was issued. */
export interface CouponRecord extends Coupon {
  userSlot: number;
  issueJobId: string;
  codeId: string | null;
  updatedAt: Date;
}

export interface HistoryRecord {
  id: string;
  couponId: string;
  fromStatus: CouponStatus | null;
  toStatus: CouponStatus;
  actor: string;
  reason: string | null;
  at: Date;
}

const money = () => ({ type: new BigIntType('number') });

export const PolicyEntity = new EntitySchema<PolicyRecord>({
  name: 'CouponPolicy',
  tableName: 'coupon_policies',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'text' },
    description: { type: 'text', nullable: true },
    discountType: { type: 'text' },
    discountValue: { type: 'integer' },
    maxDiscountAmount: { ...money(), nullable: true },
    minOrderAmount: money(),
    issueType: { type: 'text' },
    totalQuantity: { type: 'integer' },
    perUserLimit: { type: 'integer' },
    validFrom: { type: 'Date', columnType: 'timestamptz' },
    validUntil: { type: 'Date', columnType: 'timestamptz' },
    validDaysAfterIssue: { type: 'integer', nullable: true },
    status: { type: 'text' },
    issuedCount: { type: 'integer' },
    stacking: { type: 'text' },
    budget: { ...money(), nullable: true },
    codesGenerated: { type: 'integer' },
    budgetSpent: money(),
    // Its keyed hash (`public_code_hash`) is written and read by raw statements only.
    publicCode: { type: 'text', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const CouponEntity = new EntitySchema<CouponRecord>({
  name: 'Coupon',
  tableName: 'coupons',
  properties: {
    id: { type: 'uuid', primary: true },
    policyId: { type: 'uuid' },
    userId: { type: 'text' },
    userSlot: { type: 'integer' },
    status: { type: 'text' },
    issuedAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
    reservedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    usedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    orderId: { type: 'text', nullable: true },
    orderAmount: { ...money(), nullable: true },
    discountAmount: { ...money(), nullable: true },
    issueJobId: { type: 'text' },
    codeId: { type: 'uuid', nullable: true },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const HistoryEntity = new EntitySchema<HistoryRecord>({
  name: 'CouponHistory',
  tableName: 'coupon_history',
  properties: {
    id: { type: new BigIntType('string'), primary: true },
    couponId: { type: 'uuid' },
    fromStatus: { type: 'text', nullable: true },
    toStatus: { type: 'text' },
    actor: { type: 'text' },
    reason: { type: 'text', nullable: true },
    at: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const ENTITIES = [PolicyEntity, CouponEntity, HistoryEntity];
