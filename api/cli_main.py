"""`python -m api.cli_main` runs the `onewindow` command (used where the script is not on PATH)."""
from .cli import main

if __name__ == "__main__":
    main()
