"""Per-entity query functions. Each starts from the rows a principal may read (`readable`,
narrowed in SQL by auth's one scoping function), so a caller cannot forget the scope; the
read path, the services and the pages build their statements here."""
