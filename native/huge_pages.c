/*
 * Modelplane's one native call: ask Linux to back a range of this process's memory with 2 MiB
 * pages (madvise MADV_HUGEPAGE, then MADV_COLLAPSE to do it now rather than whenever khugepaged
 * gets there). ONNX Runtime allocates a model's weights with malloc, on 4 KiB pages; a batch-1
 * inference of a memory-bound model streams every weight once, and with 4 KiB pages it takes a
 * TLB miss (a page walk) every 4 KiB. Node has no madvise of its own.
 */
#include <node_api.h>
#include <errno.h>
#include <stdint.h>

#ifdef __linux__
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif
#endif

/*
 * adviseHugePages(start: bigint, length: bigint): number
 *   0 = advised and collapsed; a positive errno = MADV_HUGEPAGE failed (nothing changed);
 *   a negative errno = advised but not collapsed now (khugepaged may still collapse it later).
 */
static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint64_t start = 0, length = 0;
  bool lossless = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_bigint_uint64(env, argv[0], &start, &lossless) != napi_ok || !lossless ||
      napi_get_value_bigint_uint64(env, argv[1], &length, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, NULL, "adviseHugePages(start: bigint, length: bigint)");
    return NULL;
  }
  int32_t result = 0;
#ifdef __linux__
  void *address = (void *)(uintptr_t)start;
  if (madvise(address, (size_t)length, MADV_HUGEPAGE) != 0) result = errno;
  else if (madvise(address, (size_t)length, MADV_COLLAPSE) != 0) result = -errno;
#else
  (void)start;
  (void)length;
  result = ENOSYS;
#endif
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "adviseHugePages", NAPI_AUTO_LENGTH, advise_huge_pages, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "adviseHugePages", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
