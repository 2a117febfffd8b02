/*
 * AES-256-GCM for sealing session values at rest (src/store/encryption.ts), on the OpenSSL that
 * Node links. Why native: node:crypto's Cipheriv is a stream object built per call, whose JavaScript
 * layers cost far more than the cipher for values of a few kilobytes, and run unoptimised for a
 * fresh server's first thousands of calls. One call here does init, AAD, cipher and tag.
 *
 * The envelope (ids, base64url) stays in JavaScript; both paths give the same bytes.
 */

#include "store_gcm.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#define KEY_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16

static napi_value fail(napi_env env, const char* msg) {
  napi_throw_error(env, "STORE_GCM", msg);
  return NULL;
}

static int buffer_arg(napi_env env, napi_value v, unsigned char** data, size_t* len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  return napi_get_buffer_info(env, v, (void**)data, len) == napi_ok;
}

/* A JS string's UTF-8 bytes, malloc'ed (at least one byte, so an empty string is not NULL). */
static unsigned char* utf8_arg(napi_env env, napi_value v, size_t* len) {
  if (napi_get_value_string_utf8(env, v, NULL, 0, len) != napi_ok) return NULL;
  unsigned char* bytes = malloc(*len + 1);
  if (bytes == NULL) return NULL;
  if (napi_get_value_string_utf8(env, v, (char*)bytes, *len + 1, len) != napi_ok) {
    free(bytes);
    return NULL;
  }
  return bytes;
}

/*
 * Fetched once: EVP_aes_256_gcm() makes OpenSSL 3 look the implementation up again at every
 * init, which cost more than sealing a few kilobytes. Shared by all threads (it is read-only).
 */
static EVP_CIPHER* gcm_cipher = NULL;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;
static void fetch_gcm(void) { gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL); }

static const EVP_CIPHER* aes_256_gcm(void) {
  pthread_once(&gcm_once, fetch_gcm);
  return gcm_cipher;
}

/* OpenSSL takes int lengths; session values are bounded far below this. */
static int fits_int(size_t n) { return n <= 0x7fffffff; }

/* gcmSeal(key, iv, aad: string, plaintext: string): Buffer of ciphertext || tag */
napi_value js_gcm_seal(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return fail(env, "gcmSeal takes 4 arguments");
  unsigned char *key, *iv;
  size_t key_len, iv_len;
  if (!buffer_arg(env, argv[0], &key, &key_len) || key_len != KEY_BYTES) return fail(env, "key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], &iv, &iv_len) || iv_len != IV_BYTES) return fail(env, "iv must be a 12-byte Buffer");
  size_t aad_len, text_len;
  unsigned char* aad = utf8_arg(env, argv[2], &aad_len);
  if (aad == NULL) return fail(env, "aad must be a string");
  unsigned char* text = utf8_arg(env, argv[3], &text_len);
  if (text == NULL) {
    free(aad);
    return fail(env, "plaintext must be a string");
  }
  const char* err = NULL;
  napi_value result = NULL;
  unsigned char* out = NULL;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher;
  int n = 0, m = 0;
  if (!fits_int(aad_len) || !fits_int(text_len + TAG_BYTES)) {
    err = "value too long";
  } else if (ctx == NULL || napi_create_buffer(env, text_len + TAG_BYTES, (void**)&out, &result) != napi_ok) {
    err = "out of memory";
  } else if ((cipher = aes_256_gcm()) == NULL || EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) != 1 ||
             EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
             EVP_EncryptUpdate(ctx, out, &n, text, (int)text_len) != 1 || EVP_EncryptFinal_ex(ctx, out + n, &m) != 1 ||
             (size_t)(n + m) != text_len ||
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, out + text_len) != 1) {
    err = "AES-GCM seal failed";
  }
  EVP_CIPHER_CTX_free(ctx);
  free(text);
  free(aad);
  if (err != NULL) return fail(env, err);
  return result;
}

/* gcmOpen(key, iv, aad: string, body: Buffer of ciphertext || tag): the plaintext string, or null if it does not open */
napi_value js_gcm_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return fail(env, "gcmOpen takes 4 arguments");
  unsigned char *key, *iv, *body;
  size_t key_len, iv_len, body_len;
  if (!buffer_arg(env, argv[0], &key, &key_len) || key_len != KEY_BYTES) return fail(env, "key must be a 32-byte Buffer");
  if (!buffer_arg(env, argv[1], &iv, &iv_len) || iv_len != IV_BYTES) return fail(env, "iv must be a 12-byte Buffer");
  if (!buffer_arg(env, argv[3], &body, &body_len) || body_len < TAG_BYTES) return fail(env, "body must be a Buffer of at least the tag");
  size_t aad_len;
  unsigned char* aad = utf8_arg(env, argv[2], &aad_len);
  if (aad == NULL) return fail(env, "aad must be a string");
  size_t text_len = body_len - TAG_BYTES;
  const char* err = NULL;
  int opened = 0;
  unsigned char* out = malloc(text_len + 1);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* cipher;
  int n = 0, m = 0;
  if (!fits_int(aad_len) || !fits_int(body_len)) {
    err = "value too long";
  } else if (ctx == NULL || out == NULL) {
    err = "out of memory";
  } else if ((cipher = aes_256_gcm()) == NULL || EVP_DecryptInit_ex(ctx, cipher, NULL, key, iv) != 1 ||
             EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
             EVP_DecryptUpdate(ctx, out, &n, body, (int)text_len) != 1 ||
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, body + text_len) != 1) {
    err = "AES-GCM open failed";
  } else {
    /* Only a verified tag releases the plaintext. */
    opened = EVP_DecryptFinal_ex(ctx, out + n, &m) == 1 && (size_t)(n + m) == text_len;
  }
  EVP_CIPHER_CTX_free(ctx);
  free(aad);
  napi_value result = NULL;
  if (err == NULL) {
    napi_status s = opened ? napi_create_string_utf8(env, (const char*)out, text_len, &result) : napi_get_null(env, &result);
    if (s != napi_ok) err = "out of memory";
  }
  if (out != NULL) OPENSSL_cleanse(out, text_len);
  free(out);
  if (err != NULL) return fail(env, err);
  return result;
}
