import sys

from tidewater.cli import main

sys.exit(main())
