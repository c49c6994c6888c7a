/** The authenticated caller, from a verified token. */
export interface Principal {
  sub: string;
  role: 'admin' | 'user';
}

/** A user acts only as themselves; an admin may act for anyone. */
export function actsFor(principal: Principal, userId: string): boolean {
  return principal.role === 'admin' || principal.sub === userId;
}
