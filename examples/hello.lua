-- procrun runs Lua scripts the way luajit does.
print(('hello from %s on %s'):format(jit.version, jit.os))
