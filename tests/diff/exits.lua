io.write('before\n')
io.stdout:flush()
os.exit(tonumber(...) or (... == 'true'))
