from plyr.cli import main

main()
