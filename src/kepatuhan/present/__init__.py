"""What people look at: the HTML report card and the plots."""
