import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/**
 * The TLS settings `DATABASE_URL` asks for, as node-postgres takes them. MikroORM reads only the
 * host, port, user, password and database of its `clientUrl`, so `sslmode` and its companions are
 * mapped here, with libpq's meaning (the one `psql` gives them):
 *
 * - no `sslmode`, or `disable`: no TLS (`undefined`: pg's own default, plain TCP).
 * - `require`: encrypted; the certificate is not checked, unless `sslrootcert` names a CA file, in
 *   which case it must chain to it (as libpq does).
 * - `verify-ca`: the certificate must chain to `sslrootcert` (or the system's CAs); any host name.
 * - `verify-full`: as `verify-ca`, and the certificate must name the host.
 *
 * `sslrootcert=system` means the system's CAs; `sslcert` / `sslkey` add a client certificate.
 * `allow` and `prefer` are refused by the environment schema: pg cannot fall back to plain TCP.
 */
export function pgSsl(databaseUrl: string): ConnectionOptions | false | undefined {
  const params = new URL(databaseUrl).searchParams;
  const mode = params.get('sslmode');
  if (mode === null) return undefined;
  if (mode === 'disable') return false;
  const read = (name: string) => {
    const path = params.get(name);
    return path && path !== 'system' ? readFileSync(path, 'utf8') : undefined;
  };
  const ssl: ConnectionOptions = {};
  const ca = read('sslrootcert');
  if (ca) ssl.ca = ca;
  const cert = read('sslcert');
  const key = read('sslkey');
  if (cert) ssl.cert = cert;
  if (key) ssl.key = key;
  if (mode === 'require' && !ca) ssl.rejectUnauthorized = false;
  else {
    ssl.rejectUnauthorized = true;
    // libpq's verify-ca (and require with a root certificate) checks the chain, not the name.
    if (mode !== 'verify-full') ssl.checkServerIdentity = () => undefined;
  }
  return ssl;
}
