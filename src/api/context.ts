import type { Logger } from 'pino';

import type { Principal } from '../app/principal.js';

export type { Principal };

export interface AppEnv {
  Variables: {
    requestId: string;
    /** The service's logger; say `requestId` in lines about the request. */
    logger: Logger;
    principal: Principal;
  };
}
