{
  "targets": [
    {
      "target_name": "lapis_spawn",
      "sources": [
        "spawn.c"
      ],
      "cflags": [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-fno-strict-aliasing"
      ],
      "ldflags": [
        "-Wl,-z,now"
      ]
    }
  ]
}
