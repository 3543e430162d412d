io.write('mod_ok loaded\n')
return { name = 'mod_ok' }
