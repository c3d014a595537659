import sys

from tidewater.orchestrate.cli import main

sys.exit(main())
