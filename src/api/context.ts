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
    /** The service's logger; say `requestId` in lines about the request. */
    logger: Logger;
    principal: Principal;
  };
}
