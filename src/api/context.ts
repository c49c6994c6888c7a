import type { Logger } from 'pino';

export type Role = 'admin' | 'user';

/** The authenticated caller, from a verified JWT. */
export interface Principal {
  sub: string;
  role: Role;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    principal: Principal;
  };
}
