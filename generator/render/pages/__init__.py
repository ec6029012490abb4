"""One module per kind of page: build its context and render it through SiteContext.page."""
