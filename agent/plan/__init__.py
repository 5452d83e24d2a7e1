"""Planning a goal into robot actions (the offline goal composer lives in `compose`)."""
