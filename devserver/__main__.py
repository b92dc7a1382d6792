"""`python -m devserver`: run the dev launcher."""

from devserver.launcher import main

main()
