"""What researchers ask of a result: reproduce, rank, gap, sensitivity, panel, verify."""
