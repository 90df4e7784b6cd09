"""Running a race: lockstep groups of racers, the race itself (build, advance, snapshot),
diagnosis, commands, the engine process and the messages it sends over the wire.

Imports the engine (numerics) and the scenario; never the results room or the UI.
"""
