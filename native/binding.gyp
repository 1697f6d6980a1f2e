{
  "targets": [
    {
      "target_name": "modelplane_native",
      "sources": ["modelplane_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
