from remedybot.cli.app import main

main()
