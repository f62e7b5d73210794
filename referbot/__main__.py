from referbot.cli import main

main()
