/*
 * Multi-exponentiation modulo an Idemix public key's n, on the OpenSSL that Node itself links
 * (its BN_* symbols are exported by the node binary, so nothing else is linked in).
 *
 * Why native: a verification is a product of powers of the key's bases (S, Z, R_i) and of one
 * or two values from the proof. node:crypto can only run one exponentiation per call, each with
 * its own chain of squarings; here all terms share ONE chain, and the key's bases use fixed-base
 * tables (powers B^(2^(k*T)) with their odd multiples precomputed once), so a base's long
 * exponent costs only its window multiplications. Everything here works on PUBLIC values
 * (public key, proof contents); it is not constant-time and must not see a secret exponent.
 */

#include <node_api.h>
#include <openssl/bn.h>
#include "store_gcm.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) return throw_error(env, "N-API call failed: " #call); \
  } while (0)

static napi_value throw_error(napi_env env, const char* msg) {
  napi_throw_error(env, "IDEMIX_NATIVE", msg);
  return NULL;
}

/* ---- modulus ---------------------------------------------------------------------------- */

typedef struct {
  BIGNUM* n;
  BN_MONT_CTX* mont;
  int bytes;
} Modulus;

static void modulus_free(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Modulus* m = (Modulus*)data;
  BN_MONT_CTX_free(m->mont);
  BN_free(m->n);
  free(m);
}

/* ---- fixed-base table ------------------------------------------------------------------- */

typedef struct {
  const Modulus* owner; /* tables only combine with the modulus they were built for */
  int spacing;          /* T: chunk k covers exponent bits [k*T, (k+1)*T) */
  int window;           /* w: odd powers 1, 3, ..., 2^w - 1 of each chunk's base */
  int max_chunks;
  int chunks;
  BIGNUM* next;   /* B^(2^(chunks*T)), Montgomery form: where the next chunk starts */
  BIGNUM** pows;  /* chunks * 2^(w-1) entries, Montgomery form */
  int64_t accounted;
} Table;

static void table_free(napi_env env, void* data, void* hint) {
  (void)hint;
  Table* t = (Table*)data;
  int per = 1 << (t->window - 1);
  for (int i = 0; i < t->chunks * per; i++) BN_free(t->pows[i]);
  free(t->pows);
  BN_free(t->next);
  int64_t ignored;
  if (t->accounted) napi_adjust_external_memory(env, -t->accounted, &ignored);
  free(t);
}

/* odd powers g, g^3, ..., g^(2^w - 1) of a Montgomery-form g into out[0 .. 2^(w-1)) */
static int odd_powers(BIGNUM** out, const BIGNUM* g, int window, const Modulus* m, BN_CTX* ctx) {
  int per = 1 << (window - 1);
  if (!BN_copy(out[0], g)) return 0;
  if (per == 1) return 1;
  BIGNUM* g2 = BN_CTX_get(ctx);
  if (g2 == NULL || !BN_mod_mul_montgomery(g2, g, g, m->mont, ctx)) return 0;
  for (int i = 1; i < per; i++) {
    if (!BN_mod_mul_montgomery(out[i], out[i - 1], g2, m->mont, ctx)) return 0;
  }
  return 1;
}

/* Extends the table to `want` chunks (want <= max_chunks). */
static int table_grow(napi_env env, Table* t, int want, const Modulus* m, BN_CTX* ctx) {
  int per = 1 << (t->window - 1);
  if (want <= t->chunks) return 1;
  BIGNUM** pows = (BIGNUM**)realloc(t->pows, sizeof(BIGNUM*) * (size_t)want * (size_t)per);
  if (pows == NULL) return 0;
  t->pows = pows;
  while (t->chunks < want) {
    BIGNUM** row = t->pows + (size_t)t->chunks * per;
    for (int i = 0; i < per; i++) {
      row[i] = BN_new();
      if (row[i] == NULL) {
        for (int j = 0; j < i; j++) BN_free(row[j]);
        return 0;
      }
    }
    BN_CTX_start(ctx);
    int ok = odd_powers(row, t->next, t->window, m, ctx);
    BN_CTX_end(ctx);
    if (!ok) {
      for (int j = 0; j < per; j++) BN_free(row[j]);
      return 0;
    }
    t->chunks++;
    for (int s = 0; s < t->spacing; s++) {
      if (!BN_mod_mul_montgomery(t->next, t->next, t->next, m->mont, ctx)) return 0;
    }
    int64_t add = (int64_t)per * (m->bytes + 32);
    int64_t ignored;
    t->accounted += add;
    napi_adjust_external_memory(env, add, &ignored);
  }
  return 1;
}

/* ---- argument helpers ------------------------------------------------------------------- */

static int get_buffer(napi_env env, napi_value v, const uint8_t** data, size_t* len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  void* p;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return 0;
  *data = (const uint8_t*)p;
  return 1;
}

static int get_external(napi_env env, napi_value v, void** out) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external) return 0;
  return napi_get_value_external(env, v, out) == napi_ok;
}

/* big-endian exponent bytes */
typedef struct {
  const uint8_t* d;
  size_t len;
} Bits;

static int bit_at(const Bits* e, long i) {
  if (i < 0) return 0;
  size_t byte = (size_t)i >> 3;
  if (byte >= e->len) return 0;
  return (e->d[e->len - 1 - byte] >> (i & 7)) & 1;
}

static long bit_length(const Bits* e) {
  for (size_t k = 0; k < e->len; k++) {
    if (e->d[k]) {
      int b = 8;
      while (!((e->d[k] >> (b - 1)) & 1)) b--;
      return (long)(e->len - 1 - k) * 8 + b;
    }
  }
  return 0;
}

/* ---- exported functions ----------------------------------------------------------------- */

/* modulus(n: Buffer) -> External */
static napi_value js_modulus(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const uint8_t* nb;
  size_t nlen;
  if (argc < 1 || !get_buffer(env, argv[0], &nb, &nlen)) return throw_error(env, "modulus: expected a Buffer");
  Modulus* m = (Modulus*)calloc(1, sizeof(Modulus));
  BN_CTX* ctx = BN_CTX_new();
  if (m == NULL || ctx == NULL) {
    free(m);
    BN_CTX_free(ctx);
    return throw_error(env, "out of memory");
  }
  m->n = BN_bin2bn(nb, (int)nlen, NULL);
  m->mont = BN_MONT_CTX_new();
  /* Montgomery reduction needs an odd modulus above 1 */
  if (m->n == NULL || m->mont == NULL || !BN_is_odd(m->n) || BN_is_one(m->n) ||
      !BN_MONT_CTX_set(m->mont, m->n, ctx)) {
    BN_CTX_free(ctx);
    modulus_free(env, m, NULL);
    return throw_error(env, "modulus: need an odd modulus above 1");
  }
  BN_CTX_free(ctx);
  m->bytes = BN_num_bytes(m->n);
  napi_value out;
  if (napi_create_external(env, m, modulus_free, NULL, &out) != napi_ok) {
    modulus_free(env, m, NULL);
    return throw_error(env, "modulus: cannot create external");
  }
  return out;
}

/* fixedBase(mod: External, base: Buffer, spacing: number, window: number, maxChunks: number) */
static napi_value js_fixed_base(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Modulus* m;
  const uint8_t* bb;
  size_t blen;
  int32_t spacing, window, max_chunks;
  if (argc < 5 || !get_external(env, argv[0], (void**)&m) || !get_buffer(env, argv[1], &bb, &blen) ||
      napi_get_value_int32(env, argv[2], &spacing) != napi_ok ||
      napi_get_value_int32(env, argv[3], &window) != napi_ok ||
      napi_get_value_int32(env, argv[4], &max_chunks) != napi_ok) {
    return throw_error(env, "fixedBase: bad arguments");
  }
  if (spacing < 1 || spacing > 1 << 16 || window < 1 || window > 10 || max_chunks < 1 || max_chunks > 64) {
    return throw_error(env, "fixedBase: parameters out of range");
  }
  Table* t = (Table*)calloc(1, sizeof(Table));
  BN_CTX* ctx = BN_CTX_new();
  BIGNUM* b = BN_bin2bn(bb, (int)blen, NULL);
  if (t == NULL || ctx == NULL || b == NULL) {
    free(t);
    BN_CTX_free(ctx);
    BN_free(b);
    return throw_error(env, "out of memory");
  }
  t->owner = m;
  t->spacing = spacing;
  t->window = window;
  t->max_chunks = max_chunks;
  t->next = BN_new();
  int ok = t->next != NULL && BN_nnmod(b, b, m->n, ctx) && BN_to_montgomery(t->next, b, m->mont, ctx);
  BN_free(b);
  BN_CTX_free(ctx);
  if (!ok) {
    table_free(env, t, NULL);
    return throw_error(env, "fixedBase: cannot convert the base");
  }
  napi_value out;
  if (napi_create_external(env, t, table_free, NULL, &out) != napi_ok) {
    table_free(env, t, NULL);
    return throw_error(env, "fixedBase: cannot create external");
  }
  return out;
}

typedef struct {
  BIGNUM** pows; /* odd powers of this term's base, Montgomery form */
  int16_t* digits; /* per chain position: 0, or 1 + index into pows */
} Term;

static void window_digits(int16_t* out, long chain, const Bits* e, long offset, long width, int w) {
  /* sliding windows over exponent bits [offset, offset + width), written at chain positions */
  long i = width - 1;
  while (i >= 0) {
    if (!bit_at(e, offset + i)) {
      i--;
      continue;
    }
    long j = i - w + 1;
    if (j < 0) j = 0;
    while (!bit_at(e, offset + j)) j++;
    int v = 0;
    for (long k = i; k >= j; k--) v = (v << 1) | bit_at(e, offset + k);
    if (j < chain) out[j] = (int16_t)(1 + (v >> 1));
    i = j - 1;
  }
}

static int var_window(long bits) {
  return bits > 512 ? 5 : bits > 160 ? 4 : bits > 24 ? 3 : 1;
}

/*
 * multiExp(mod, tables: External[], tableExps: Buffer[], bases: Buffer[], exps: Buffer[]) -> Buffer
 * = prod tables_i^tableExps_i * prod bases_j^exps_j mod n (all exponents non-negative), as
 * big-endian bytes of n's length.
 */
static napi_value js_multi_exp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Modulus* m;
  uint32_t nt = 0, ntx = 0, nv = 0, nvx = 0;
  bool is;
  if (argc < 5 || !get_external(env, argv[0], (void**)&m)) return throw_error(env, "multiExp: bad modulus");
  for (int k = 1; k < 5; k++) {
    if (napi_is_array(env, argv[k], &is) != napi_ok || !is) return throw_error(env, "multiExp: expected arrays");
  }
  CHECK(napi_get_array_length(env, argv[1], &nt));
  CHECK(napi_get_array_length(env, argv[2], &ntx));
  CHECK(napi_get_array_length(env, argv[3], &nv));
  CHECK(napi_get_array_length(env, argv[4], &nvx));
  if (nt != ntx || nv != nvx || nt > 4096 || nv > 4096) return throw_error(env, "multiExp: array lengths differ");

  Table** tables = (Table**)calloc(nt + 1, sizeof(Table*));
  Bits* texp = (Bits*)calloc(nt + 1, sizeof(Bits));
  Bits* vexp = (Bits*)calloc(nv + 1, sizeof(Bits));
  BIGNUM** vbase = (BIGNUM**)calloc(nv + 1, sizeof(BIGNUM*));
  int* vwin = (int*)calloc(nv + 1, sizeof(int));
  BN_CTX* ctx = BN_CTX_new();
  Term* terms = NULL;
  int16_t* digits = NULL;
  BIGNUM **vpows = NULL;
  size_t nvpows = 0;
  BIGNUM* acc = NULL;
  napi_value result = NULL;
  const char* err = NULL;
  if (tables == NULL || texp == NULL || vexp == NULL || vbase == NULL || vwin == NULL || ctx == NULL) {
    err = "out of memory";
    goto done;
  }

  long chain = 0;
  size_t nterms = 0;
  for (uint32_t i = 0; i < nt; i++) {
    napi_value el, ex;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || !get_external(env, el, (void**)&tables[i]) ||
        napi_get_element(env, argv[2], i, &ex) != napi_ok || !get_buffer(env, ex, &texp[i].d, &texp[i].len)) {
      err = "multiExp: bad table term";
      goto done;
    }
    Table* t = tables[i];
    if (t->owner != m) {
      err = "multiExp: table of another modulus";
      goto done;
    }
    long bits = bit_length(&texp[i]);
    long need = (bits + t->spacing - 1) / t->spacing;
    if (need > t->max_chunks) {
      err = "multiExp: exponent longer than the table";
      goto done;
    }
    if (!table_grow(env, t, (int)need, m, ctx)) {
      err = "multiExp: cannot extend a table";
      goto done;
    }
    nterms += (size_t)need;
    long top = bits < t->spacing ? bits : t->spacing;
    if (top > chain) chain = top;
  }
  for (uint32_t i = 0; i < nv; i++) {
    napi_value el, ex;
    const uint8_t* bb;
    size_t blen;
    if (napi_get_element(env, argv[3], i, &el) != napi_ok || !get_buffer(env, el, &bb, &blen) ||
        napi_get_element(env, argv[4], i, &ex) != napi_ok || !get_buffer(env, ex, &vexp[i].d, &vexp[i].len)) {
      err = "multiExp: bad variable term";
      goto done;
    }
    BIGNUM* b = BN_bin2bn(bb, (int)blen, NULL);
    vbase[i] = b;
    if (b == NULL || !BN_nnmod(b, b, m->n, ctx) || !BN_to_montgomery(b, b, m->mont, ctx)) {
      err = "multiExp: cannot convert a base";
      goto done;
    }
    long bits = bit_length(&vexp[i]);
    if (bits > (1L << 20)) {
      err = "multiExp: exponent too long";
      goto done;
    }
    vwin[i] = var_window(bits);
    nvpows += (size_t)1 << (vwin[i] - 1);
    nterms++;
    if (bits > chain) chain = bits;
  }

  /* One int16 per term and chain position: refuse what would need more than 32 MB of them. */
  if ((size_t)(chain + 1) * (nterms + 1) > ((size_t)1 << 24)) {
    err = "multiExp: too many terms or too long exponents";
    goto done;
  }
  terms = (Term*)calloc(nterms + 1, sizeof(Term));
  digits = (int16_t*)calloc((size_t)(chain + 1) * (nterms + 1), sizeof(int16_t));
  vpows = (BIGNUM**)calloc(nvpows + 1, sizeof(BIGNUM*));
  acc = BN_new();
  if (terms == NULL || digits == NULL || vpows == NULL || acc == NULL) {
    err = "out of memory";
    goto done;
  }
  size_t at = 0;
  for (uint32_t i = 0; i < nt; i++) {
    Table* t = tables[i];
    int per = 1 << (t->window - 1);
    long bits = bit_length(&texp[i]);
    for (long k = 0; k * t->spacing < bits; k++) {
      terms[at].pows = t->pows + (size_t)k * per;
      terms[at].digits = digits + at * (size_t)(chain + 1);
      long width = bits - k * t->spacing;
      if (width > t->spacing) width = t->spacing;
      window_digits(terms[at].digits, chain, &texp[i], k * t->spacing, width, t->window);
      at++;
    }
  }
  size_t vp = 0;
  for (uint32_t i = 0; i < nv; i++) {
    int per = 1 << (vwin[i] - 1);
    for (int k = 0; k < per; k++) {
      vpows[vp + k] = BN_new();
      if (vpows[vp + k] == NULL) {
        err = "out of memory";
        goto done;
      }
    }
    BN_CTX_start(ctx);
    int ok = odd_powers(vpows + vp, vbase[i], vwin[i], m, ctx);
    BN_CTX_end(ctx);
    if (!ok) {
      err = "multiExp: arithmetic failed";
      goto done;
    }
    terms[at].pows = vpows + vp;
    terms[at].digits = digits + at * (size_t)(chain + 1);
    window_digits(terms[at].digits, chain, &vexp[i], 0, bit_length(&vexp[i]), vwin[i]);
    vp += (size_t)per;
    at++;
  }

  int started = 0;
  for (long i = chain - 1; i >= 0; i--) {
    if (started && !BN_mod_mul_montgomery(acc, acc, acc, m->mont, ctx)) {
      err = "multiExp: arithmetic failed";
      goto done;
    }
    for (size_t k = 0; k < at; k++) {
      int d = terms[k].digits[i];
      if (!d) continue;
      const BIGNUM* f = terms[k].pows[d - 1];
      if (!started) {
        if (!BN_copy(acc, f)) {
          err = "out of memory";
          goto done;
        }
        started = 1;
      } else if (!BN_mod_mul_montgomery(acc, acc, f, m->mont, ctx)) {
        err = "multiExp: arithmetic failed";
        goto done;
      }
    }
  }
  if (!started) {
    if (!BN_one(acc)) {
      err = "out of memory";
      goto done;
    }
  } else if (!BN_from_montgomery(acc, acc, m->mont, ctx)) {
    err = "multiExp: arithmetic failed";
    goto done;
  }
  void* outp;
  if (napi_create_buffer(env, (size_t)m->bytes, &outp, &result) != napi_ok ||
      BN_bn2binpad(acc, (unsigned char*)outp, m->bytes) < 0) {
    result = NULL;
    err = "multiExp: cannot return the result";
  }

done:
  if (vbase) for (uint32_t i = 0; i < nv; i++) BN_free(vbase[i]);
  if (vpows) for (size_t i = 0; i < nvpows; i++) BN_free(vpows[i]);
  free(vpows);
  free(digits);
  free(terms);
  free(vbase);
  free(vwin);
  free(vexp);
  free(texp);
  free(tables);
  BN_free(acc);
  BN_CTX_free(ctx);
  if (err != NULL) return throw_error(env, err);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"modulus", NULL, js_modulus, NULL, NULL, NULL, napi_default, NULL},
      {"fixedBase", NULL, js_fixed_base, NULL, NULL, NULL, napi_default, NULL},
      {"multiExp", NULL, js_multi_exp, NULL, NULL, NULL, napi_default, NULL},
      {"gcmSeal", NULL, js_gcm_seal, NULL, NULL, NULL, napi_default, NULL},
      {"gcmOpen", NULL, js_gcm_open, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
