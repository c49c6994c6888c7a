import { SignJWT } from 'jose';

export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef';
export const TEST_CODE_SECRET = 'test-code-secret-0123456789abcdef';

export function token(sub: string, role: 'admin' | 'user' = 'user', secret = TEST_JWT_SECRET) {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

export async function authHeaders(sub: string, role: 'admin' | 'user' = 'user') {
  return { authorization: `Bearer ${await token(sub, role)}`, 'content-type': 'application/json' };
}
