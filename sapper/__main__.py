from sapper.cli import main

main()
