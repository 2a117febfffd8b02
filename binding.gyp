{
  "targets": [
    {
      "target_name": "idemix_native",
      "sources": ["native/idemix_native.c", "native/store_gcm.c"],
      "cflags": ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
