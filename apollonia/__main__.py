from apollonia.cli.main import main

main()
