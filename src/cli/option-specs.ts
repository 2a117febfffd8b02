// The table of configuration keys the `irma-server` command understands. Names are a compatibility
// contract with the reference `irma server`: config-file key snake_case, flag the same in kebab-case,
// environment variable IRMASERVER_<KEY IN UPPER CASE>.

export type OptionKind =
  | 'string'
  | 'int'
  | 'bool'
  | 'count' // -v, -vv
  | 'list' // comma-separated in flags, comma/space-separated in env, a list in files
  | 'map' // a JSON object in flags and env, an object in files
  | 'keyring'; // id:base64key[,id:base64key] or a JSON list of {id, key}; a list in files

export interface OptionSpec {
  /** Config-file key. */
  key: string;
  short?: string;
  kind: OptionKind;
  help: string;
  group: string;
  /**
   * A reference option of a feature this server does not support (yet): the feature, named in the
   * error that setting it gives. Supporting the feature means deleting this mark.
   */
  ignored?: string;
  /** Deprecated in the reference and ignored there too: setting it only warns. */
  deprecated?: true;
}

const G_SCHEMES = 'Schemes and files';
const G_LISTEN = 'Server address and port to listen on';
const G_AUTH = 'Requestor authentication and default requestor permissions';
const G_STORE = 'Session store configuration';
const G_JWT = 'JWT configuration';
const G_TLS = 'TLS configuration (leave empty to disable TLS)';
const G_OTHER = 'Other options';
const G_LIMITS = 'Limits on what one request may cost';

export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'config', short: 'c', kind: 'string', group: G_SCHEMES, help: 'path to configuration file' },
  { key: 'schemes_path', short: 's', kind: 'string', group: G_SCHEMES,
    help: 'path to irma_configuration (default in development: the generated demo scheme in --data-dir)' },
  { key: 'privkeys', short: 'k', kind: 'string', group: G_SCHEMES, help: 'path to IRMA private keys' },
  { key: 'data_dir', kind: 'string', group: G_SCHEMES,
    help: 'where the development demo scheme is generated (default ~/.irma-server-ts)' },
  { key: 'schemes_assets_path', kind: 'string', group: G_SCHEMES, help: 'not supported',
    ignored: 'scheme assets are not copied; put the schemes in schemes_path' },
  { key: 'schemes_update', kind: 'int', group: G_SCHEMES, help: 'update IRMA schemes every x minutes (0 to disable) (default 60)' },
  { key: 'download_default_schemes', kind: 'bool', group: G_SCHEMES,
    help: 'in development without schemes_path, also download the irma-demo and pbdf schemes into --data-dir when online (default true)' },
  { key: 'static_path', kind: 'string', group: G_SCHEMES,
    help: 'host files under this path as static files (leave empty to disable)' },
  { key: 'static_prefix', kind: 'string', group: G_SCHEMES, help: 'host static files under this URL prefix (default "/")' },
  { key: 'url', short: 'u', kind: 'string', group: G_SCHEMES,
    help: 'external URL to server to which the IRMA client connects, ":port" being replaced by --port value (default in development: http://<local IPv4>:port)' },
  { key: 'revocation_db_type', kind: 'string', group: G_SCHEMES, help: 'database type for revocation database, supported: postgres' },
  { key: 'revocation_db_str', kind: 'string', group: G_SCHEMES, help: 'connection string for revocation database' },
  { key: 'revocation_settings', kind: 'map', group: G_SCHEMES, help: 'revocation settings (in JSON)' },
  { key: 'sdjwtvc_issuer_certificates_dir', kind: 'string', group: G_SCHEMES,
    help: 'path to SD-JWT VC issuer certificate chains (<scheme>.<issuer>.pem, leaf first); enables SD-JWT VC issuance' },
  { key: 'sdjwtvc_issuer_private_keys_dir', kind: 'string', group: G_SCHEMES,
    help: 'path to SD-JWT VC issuer private keys (<scheme>.<issuer>.pem, P-256); enables SD-JWT VC issuance' },
  { key: 'sdjwtvc', kind: 'map', group: G_SCHEMES,
    help: 'SD-JWT VC issuance settings (in JSON): issuer_certificates_dir, issuer_private_keys_dir' },
  { key: 'sse', kind: 'bool', group: G_SCHEMES, help: 'enable server-sent events for status updates (also with the Redis store)' },

  { key: 'port', short: 'p', kind: 'int', group: G_LISTEN, help: 'port at which to listen (default 8088)' },
  { key: 'listen_addr', short: 'l', kind: 'string', group: G_LISTEN, help: 'address at which to listen (default all)' },
  { key: 'api_prefix', short: 'a', kind: 'string', group: G_LISTEN,
    help: 'prefix API endpoints with this string, e.g. POST /session becomes POST {api-prefix}/session (default "/")' },
  { key: 'client_port', kind: 'int', group: G_LISTEN, help: 'if specified, start a separate server for the IRMA app at this port' },
  { key: 'client_listen_addr', kind: 'string', group: G_LISTEN, help: 'address at which server for IRMA app listens' },
  { key: 'metrics_port', kind: 'int', group: G_LISTEN,
    help: 'serve Prometheus metrics (/metrics) and health checks on this separate port (default: none; /metrics is then served on the main port in development only)' },
  { key: 'metrics_listen_addr', kind: 'string', group: G_LISTEN,
    help: 'address at which the metrics port listens (default 127.0.0.1, this machine only)' },
  { key: 'trusted_proxies', kind: 'list', group: G_LISTEN,
    help: 'reverse proxies (addresses, CIDR ranges, or loopback, linklocal, uniquelocal) whose X-Forwarded-For names the client for the per-address session rate limit (default: none, the connection\'s address counts)' },

  { key: 'no_auth', kind: 'bool', group: G_AUTH,
    help: 'whether or not to authenticate requestors (and reject all authenticated requests) (default true in development, false in production)' },
  { key: 'requestors', kind: 'map', group: G_AUTH, help: 'requestor configuration (in JSON)' },
  { key: 'disclose_perms', kind: 'list', group: G_AUTH, help: 'list of attributes that all requestors may verify (default *)' },
  { key: 'sign_perms', kind: 'list', group: G_AUTH,
    help: 'list of attributes that all requestors may request in signatures (default *)' },
  { key: 'issue_perms', kind: 'list', group: G_AUTH,
    help: 'list of attributes that all requestors may issue (default * in development, none in production)' },
  { key: 'revoke_perms', kind: 'list', group: G_AUTH, help: 'list of credentials that all requestors may revoke' },
  { key: 'skip_private_keys_check', kind: 'bool', group: G_AUTH,
    help: 'whether or not to skip checking whether the private keys that requestors have permission for using are present in the configuration' },
  { key: 'static_sessions', kind: 'map', group: G_AUTH, help: 'preconfigured static sessions (in JSON)' },
  { key: 'max_session_lifetime', kind: 'int', group: G_AUTH,
    help: 'maximum duration of a session once a client connects in minutes (default 15)' },
  { key: 'session_result_lifetime', kind: 'int', group: G_AUTH,
    help: 'determines how long a session result is preserved in minutes (default 5)' },

  { key: 'store_type', kind: 'string', group: G_STORE, help: 'how session state is kept: memory or redis (default "memory")' },
  { key: 'redis_addr', kind: 'string', group: G_STORE, help: 'Redis address, to be specified as host:port' },
  { key: 'redis_sentinel_addrs', kind: 'list', group: G_STORE, help: 'Redis Sentinel addresses, to be specified as host:port' },
  { key: 'redis_sentinel_master_name', kind: 'string', group: G_STORE, help: 'Redis Sentinel master name' },
  { key: 'redis_cluster_addrs', kind: 'list', group: G_STORE, help: 'Redis Cluster seed node addresses, as host:port' },
  { key: 'redis_accept_inconsistency_risk', kind: 'bool', group: G_STORE,
    help: 'accept the risk of inconsistent session state when using Redis Sentinel or Cluster' },
  { key: 'redis_username', kind: 'string', group: G_STORE, help: 'Redis server username (when using ACLs)' },
  { key: 'redis_pw', kind: 'string', group: G_STORE, help: 'Redis server password' },
  { key: 'redis_sentinel_username', kind: 'string', group: G_STORE, help: 'Redis Sentinel username (when using ACLs)' },
  { key: 'redis_sentinel_pw', kind: 'string', group: G_STORE, help: 'Redis Sentinel password' },
  { key: 'redis_pw_file', kind: 'string', group: G_STORE, help: 'path to a file holding the Redis server password (instead of redis_pw)' },
  { key: 'redis_sentinel_pw_file', kind: 'string', group: G_STORE,
    help: 'path to a file holding the Redis Sentinel password (instead of redis_sentinel_pw)' },
  { key: 'redis_allow_empty_password', kind: 'bool', group: G_STORE, help: 'explicitly allow an empty string as Redis password' },
  { key: 'redis_acl_use_key_prefixes', kind: 'bool', group: G_STORE,
    help: 'if enabled all Redis keys will be prefixed with the username for ACLs (username:key)' },
  { key: 'redis_key_prefix', kind: 'string', group: G_STORE, help: 'extra prefix for all Redis keys (after the ACL username prefix)' },
  { key: 'redis_db', kind: 'int', group: G_STORE, help: 'database to be selected after connecting to the server (default 0)' },
  { key: 'redis_tls_cert', kind: 'string', group: G_STORE, help: 'use Redis TLS with specific certificate or certificate authority' },
  { key: 'redis_tls_cert_file', kind: 'string', group: G_STORE,
    help: 'use Redis TLS path to specific certificate or certificate authority' },
  { key: 'redis_tls_client_key_file', kind: 'string', group: G_STORE, help: 'use Redis mTLS with specified client key path' },
  { key: 'redis_tls_client_cert_file', kind: 'string', group: G_STORE, help: 'use Redis mTLS with specified client certificate path' },
  { key: 'redis_no_tls', kind: 'bool', group: G_STORE,
    help: 'disable Redis TLS (by default, Redis TLS is enabled with the system certificate pool)' },
  { key: 'redis_wait_replicas', kind: 'int', group: G_STORE,
    help: 'wait until this many replicas acknowledged a write that finishes a session (default 0)' },
  { key: 'redis_wait_timeout', kind: 'int', group: G_STORE, help: 'milliseconds the wait for replicas may take (default 1000)' },
  { key: 'redis_timeout', kind: 'int', group: G_STORE,
    help: 'milliseconds a Redis operation may take before the request fails (default 3000)' },
  { key: 'store_encryption_keys', kind: 'keyring', group: G_STORE,
    help: 'encrypt session state at rest: id:base64key[,id:base64key...] (32-byte keys) or a JSON list of {"id","key"}; the first one encrypts, all decrypt' },
  { key: 'store_encryption_keys_file', kind: 'string', group: G_STORE,
    help: 'path to a file holding store_encryption_keys (same format), instead of giving them inline' },
  { key: 'store_encryption_allow_plaintext', kind: 'bool', group: G_STORE,
    help: 'also read unencrypted session state (only while migrating to encryption)' },

  { key: 'jwt_issuer', short: 'j', kind: 'string', group: G_JWT, help: 'JWT issuer (default "irmaserver")' },
  { key: 'jwt_privkey', kind: 'string', group: G_JWT, help: 'JWT private key' },
  { key: 'jwt_privkey_file', kind: 'string', group: G_JWT, help: 'path to JWT private key' },
  { key: 'max_request_age', kind: 'int', group: G_JWT, help: 'max age in seconds of a session request JWT (default 300)' },
  { key: 'allow_unsigned_callbacks', kind: 'bool', group: G_JWT,
    help: 'allow callbackUrl in session requests when no JWT privatekey is installed (potentially unsafe)' },
  { key: 'augment_client_return_url', kind: 'bool', group: G_JWT,
    help: 'augment the client return url with the server session token if present' },

  { key: 'tls_cert', kind: 'string', group: G_TLS, help: 'TLS certificate (chain)' },
  { key: 'tls_cert_file', kind: 'string', group: G_TLS, help: 'path to TLS certificate (chain)' },
  { key: 'tls_privkey', kind: 'string', group: G_TLS, help: 'TLS private key' },
  { key: 'tls_privkey_file', kind: 'string', group: G_TLS, help: 'path to TLS private key' },
  { key: 'client_tls_cert', kind: 'string', group: G_TLS, help: 'TLS certificate (chain) for IRMA app server' },
  { key: 'client_tls_cert_file', kind: 'string', group: G_TLS, help: 'path to TLS certificate (chain) for IRMA app server' },
  { key: 'client_tls_privkey', kind: 'string', group: G_TLS, help: 'TLS private key for IRMA app server' },
  { key: 'client_tls_privkey_file', kind: 'string', group: G_TLS, help: 'path to TLS private key for IRMA app server' },
  { key: 'no_tls', kind: 'bool', group: G_TLS, help: 'disable TLS' },

  { key: 'email', short: 'e', kind: 'string', group: G_OTHER, help: 'deprecated, ignored', deprecated: true },
  { key: 'no_email', kind: 'bool', group: G_OTHER, help: 'deprecated, ignored', deprecated: true },
  { key: 'verbose', short: 'v', kind: 'count', group: G_OTHER, help: 'verbose (repeatable)' },
  { key: 'quiet', short: 'q', kind: 'bool', group: G_OTHER, help: 'quiet' },
  { key: 'log_json', kind: 'bool', group: G_OTHER, help: 'log in JSON format' },
  { key: 'production', kind: 'bool', group: G_OTHER, help: 'production mode' },
  { key: 'accept_insecure_protocol_versions', kind: 'bool', group: G_OTHER,
    help: 'accept IRMA app protocol versions below 2.5' },
  { key: 'crypto_workers', kind: 'int', group: G_OTHER,
    help: 'worker threads for proof verification and issuance, 0 = none (default: one per CPU, at most 16)' },

  { key: 'max_session_request_size', kind: 'int', group: G_LIMITS, help: 'bytes of a session request body (POST /session), 0 = no limit (default 1048576)' },
  { key: 'max_client_message_size', kind: 'int', group: G_LIMITS,
    help: 'bytes of the app\'s proofs or commitments body, 0 = no limit (default 2097152)' },
  { key: 'max_body_size', kind: 'int', group: G_LIMITS, help: 'bytes of any other request body, 0 = no limit (default 65536)' },
  { key: 'max_json_depth', kind: 'int', group: G_LIMITS, help: 'nesting depth of JSON bodies, 0 = no limit (default 64)' },
  { key: 'max_json_values', kind: 'int', group: G_LIMITS, help: 'values (arrays, objects and their members) in a JSON body, 0 = no limit (default 4096)' },
  { key: 'max_issuance_credentials', kind: 'int', group: G_LIMITS,
    help: 'credentials per issuance request, 0 = no limit (default 32)' },
  { key: 'max_disjunctions', kind: 'int', group: G_LIMITS, help: 'disjunctions per session request, 0 = no limit (default 128)' },
  { key: 'max_request_attributes', kind: 'int', group: G_LIMITS,
    help: 'attributes named by one session request (to disclose and to issue), 0 = no limit (default 256)' },
  { key: 'max_session_size', kind: 'int', group: G_LIMITS, help: 'bytes of stored state per session, 0 = no limit (default 8388608)' },
  { key: 'max_sse_listeners', kind: 'int', group: G_LIMITS, help: 'open server-sent event streams, 0 = no limit (default 4096)' },
  { key: 'max_sse_listeners_per_session', kind: 'int', group: G_LIMITS,
    help: 'open server-sent event streams per session, 0 = no limit (default 16)' },
  { key: 'max_connections', kind: 'int', group: G_LIMITS, help: 'open connections per listener, 0 = no limit (default 8192)' },
  { key: 'max_connections_per_client', kind: 'int', group: G_LIMITS,
    help: 'open connections from one client address, 0 = no limit (set 0 behind a proxy) (default 256)' },
  { key: 'read_header_timeout', kind: 'int', group: G_LIMITS, help: 'milliseconds a client may take to send request headers (default 2000)' },
  { key: 'read_timeout', kind: 'int', group: G_LIMITS,
    help: 'milliseconds a client may take to send a whole request (default 2000)' },
  { key: 'idle_timeout', kind: 'int', group: G_LIMITS,
    help: 'milliseconds an idle keep-alive connection stays open (default 5000; event streams are exempt)' },
  { key: 'shutdown_grace_period', kind: 'int', group: G_OTHER,
    help: 'seconds a stopping server (SIGTERM, SIGINT) lets requests in flight finish; a second signal stops at once (default 15)' },
  { key: 'session_rate_limit_address', kind: 'int', group: G_OTHER,
    help: 'sessions one client address may start per window, 0 = no limit (default 0, in production 120)' },
  { key: 'session_rate_limit_requestor', kind: 'int', group: G_OTHER,
    help: 'sessions one requestor (or static session) may start per window, 0 = no limit (default 0, in production 6000)' },
  { key: 'session_rate_limit_window', kind: 'int', group: G_OTHER,
    help: 'seconds of the session rate-limit window, counted in Redis with the Redis store (default 60)' },
];

export const SPEC_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTION_SPECS.map((s) => [s.key, s]));

export function flagName(key: string): string {
  return key.replace(/_/g, '-');
}

export function envName(key: string): string {
  return 'IRMASERVER_' + key.toUpperCase();
}
