/* AES-256-GCM seal and open for the session store (store_gcm.c). */
#ifndef STORE_GCM_H
#define STORE_GCM_H

#include <node_api.h>

napi_value js_gcm_seal(napi_env env, napi_callback_info info);
napi_value js_gcm_open(napi_env env, napi_callback_info info);

#endif
