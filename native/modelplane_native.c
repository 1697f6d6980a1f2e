#define _GNU_SOURCE /* CPU_ALLOC and sched_setaffinity; before any system header */
/*
 * The system calls Node has no API for (src/runtime/native-addon.ts).
 *
 * adviseHugePages: ask Linux to back a range of this process's memory with 2 MiB
 * pages (madvise MADV_HUGEPAGE, then MADV_COLLAPSE to do it now rather than whenever khugepaged
 * gets there). ONNX Runtime allocates a model's weights with malloc, on 4 KiB pages; a batch-1
 * inference of a memory-bound model streams every weight once, and with 4 KiB pages it takes a
 * TLB miss (a page walk) every 4 KiB. Node has no madvise of its own.
 */
#include <node_api.h>
#include <errno.h>
#include <stdint.h>

#ifdef __linux__
#include <sched.h>
#include <stdlib.h>
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

/* Linux has at most 8192 CPUs (NR_CPUS); the config schema bounds instance_cpus the same way. */
#define MAX_CPUS 8192

/*
 * setThreadAffinity(cpus: number[]): number
 *   Binds the calling thread (sched_setaffinity with pid 0 is this thread, not the process) to the
 *   CPUs given, as util-linux's taskset would from outside; threads it starts later inherit the set.
 *   0 = done, else the errno (EINVAL also for a CPU number out of range).
 */
static napi_value set_thread_affinity(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t count = 0;
  bool is_array = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "setThreadAffinity(cpus: number[])");
    return NULL;
  }
  int32_t result = 0;
#ifdef __linux__
  cpu_set_t *set = CPU_ALLOC(MAX_CPUS);
  size_t size = CPU_ALLOC_SIZE(MAX_CPUS);
  if (set == NULL) result = ENOMEM;
  else {
    CPU_ZERO_S(size, set);
    for (uint32_t i = 0; i < count && result == 0; i++) {
      napi_value element;
      uint32_t cpu = 0;
      if (napi_get_element(env, argv[0], i, &element) != napi_ok || napi_get_value_uint32(env, element, &cpu) != napi_ok || cpu >= MAX_CPUS) result = EINVAL;
      else CPU_SET_S(cpu, size, set);
    }
    if (result == 0 && sched_setaffinity(0, size, set) != 0) result = errno;
    CPU_FREE(set);
  }
#else
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
  if (napi_create_function(env, "setThreadAffinity", NAPI_AUTO_LENGTH, set_thread_affinity, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setThreadAffinity", fn) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
