-- Prints the arg table (the host's own name, which differs, as HOST) and
-- the main chunk's varargs.
local lo = 0
while arg[lo - 1] ~= nil do lo = lo - 1 end
local t = {}
for i = lo, #arg do
  t[#t + 1] = i .. '=' .. (i == lo and 'HOST' or tostring(arg[i]))
end
print(table.concat(t, ' '))
print('...', select('#', ...), ...)
