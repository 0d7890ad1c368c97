from macaw.cli import main

main()
