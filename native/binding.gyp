{
  "targets": [
    {
      "target_name": "modelplane_native",
      "sources": ["huge_pages.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
