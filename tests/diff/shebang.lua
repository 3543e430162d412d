#!/usr/bin/env luajit
print("shebang ok", ...)
