"""The plain library: everything akhbar does to a feed, a page or an article, with no Beam in it."""
