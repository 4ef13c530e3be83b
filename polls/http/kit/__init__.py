"""What every endpoint shares: rendering pages, sessions and guards, errors, middleware, forms."""
