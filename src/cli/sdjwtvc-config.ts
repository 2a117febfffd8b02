// The SD-JWT VC options as the reference CLI reads them (sdjwtvc-issuance.md §4.1): the two
// directory options switch issuance on, and an `sdjwtvc` map (config file, or JSON in
// IRMASERVER_SDJWTVC) is laid over them. Relative paths are taken from the working directory.
import { resolve } from 'node:path';
import { OptionsError, type SdJwtVcOptions } from '../server/options.js';

const MAP_KEYS: Record<string, keyof SdJwtVcOptions> = {
  issuer_certificates_dir: 'issuerCertificatesDir',
  issuer_private_keys_dir: 'issuerPrivateKeysDir',
};

export function sdjwtvcOptionsFrom(
  get: <T>(key: string) => T | undefined,
  cwd: string,
  warnings: string[],
): SdJwtVcOptions | undefined {
  const out: SdJwtVcOptions = {
    issuerCertificatesDir: get<string>('sdjwtvc_issuer_certificates_dir') ?? '',
    issuerPrivateKeysDir: get<string>('sdjwtvc_issuer_private_keys_dir') ?? '',
  };
  const map = get<Record<string, unknown>>('sdjwtvc');
  if (out.issuerCertificatesDir === '' && out.issuerPrivateKeysDir === '' && map === undefined) return undefined;
  for (const [k, v] of Object.entries(map ?? {})) {
    // Member names match case-insensitively, as mapstructure does in the reference.
    const field = MAP_KEYS[k.toLowerCase()];
    if (field === undefined) {
      warnings.push(`unknown key "${k}" in sdjwtvc`);
      continue;
    }
    if (typeof v !== 'string') throw new OptionsError(`sdjwtvc.${k} must be a string`);
    out[field] = v;
  }
  if (out.issuerCertificatesDir !== '') out.issuerCertificatesDir = resolve(cwd, out.issuerCertificatesDir);
  if (out.issuerPrivateKeysDir !== '') out.issuerPrivateKeysDir = resolve(cwd, out.issuerPrivateKeysDir);
  return out;
}
