// Counting what a session request asks for on the parsed JSON, before any schema check or scheme
// lookup: those cost tens of microseconds per disjunction, so a request of a hundred thousand
// disjunctions would hold the event loop for seconds. Counting is one cheap pass.
import { ProtocolError } from './errors.js';

export interface RequestShapeLimits {
  /** 0 = no limit, for each. */
  maxDisjunctions: number;
  maxRequestAttributes: number;
  maxIssuanceCredentials: number;
}

interface Counts {
  disjunctions: number;
  attributes: number;
  credentials: number;
}

/** Member names match case-insensitively, as in the reference's decoder. */
const DISCLOSURE = new Set(['disclose', 'content']);
const CREDENTIALS = 'credentials';
/** The request sits at the top, under `request`, or (in a JWT) under a claim and then `request`. */
const MAX_OBJECT_DEPTH = 3;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Attributes of one conjunction: a list of attribute requests, or a legacy {label, attributes}. */
function conjunctionSize(con: unknown): number {
  if (Array.isArray(con)) return con.length;
  if (!isObject(con)) return 0;
  for (const [name, value] of Object.entries(con)) {
    if (name.toLowerCase() !== 'attributes') continue;
    if (Array.isArray(value)) return value.length;
    if (isObject(value)) return Object.keys(value).length;
  }
  return 0;
}

function countDisclosure(list: unknown, counts: Counts): void {
  if (!Array.isArray(list)) return;
  counts.disjunctions += list.length;
  for (const dis of list) {
    if (Array.isArray(dis)) for (const con of dis) counts.attributes += conjunctionSize(con);
    else counts.attributes += conjunctionSize(dis);
  }
}

function countCredentials(list: unknown, counts: Counts): void {
  if (!Array.isArray(list)) return;
  counts.credentials += list.length;
  for (const cred of list) counts.attributes += conjunctionSize(cred);
}

function visit(value: Record<string, unknown>, level: number, counts: Counts): void {
  for (const [name, member] of Object.entries(value)) {
    const folded = name.toLowerCase();
    if (DISCLOSURE.has(folded)) countDisclosure(member, counts);
    else if (folded === CREDENTIALS) countCredentials(member, counts);
    else if (level < MAX_OBJECT_DEPTH && isObject(member)) visit(member, level + 1, counts);
  }
}

/** Throws INVALID_REQUEST when the request asks for more than the limits allow. */
export function checkRequestShape(input: unknown, limits: RequestShapeLimits): void {
  if (!isObject(input)) return;
  const counts: Counts = { disjunctions: 0, attributes: 0, credentials: 0 };
  visit(input, 1, counts);
  const over = (n: number, max: number) => max > 0 && n > max;
  if (over(counts.credentials, limits.maxIssuanceCredentials)) {
    throw new ProtocolError(
      'INVALID_REQUEST',
      `too many credentials to issue: ${counts.credentials} (at most ${limits.maxIssuanceCredentials})`,
    );
  }
  if (over(counts.disjunctions, limits.maxDisjunctions)) {
    throw new ProtocolError('INVALID_REQUEST', `too many disjunctions: ${counts.disjunctions} (at most ${limits.maxDisjunctions})`);
  }
  if (over(counts.attributes, limits.maxRequestAttributes)) {
    throw new ProtocolError('INVALID_REQUEST', `too many attributes: ${counts.attributes} (at most ${limits.maxRequestAttributes})`);
  }
}
