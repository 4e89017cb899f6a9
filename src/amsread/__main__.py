"""Allow ``python -m amsread``."""

from amsread.cli import main

if __name__ == "__main__":
    main()
