//! Listing of resolved targets for `fleet ls` (placeholder until its owner's version lands).
