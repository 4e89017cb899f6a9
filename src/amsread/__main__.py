"""Allow ``python -m amsread``."""

from amsread.cli.main import main

if __name__ == "__main__":
    main()
