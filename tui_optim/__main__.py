from tui_optim.cli import main

raise SystemExit(main())
