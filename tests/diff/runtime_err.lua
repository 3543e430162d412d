local function inner() error('deep ' .. tostring(...)) end
inner(...)
