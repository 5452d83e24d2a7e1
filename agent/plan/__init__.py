"""Planning a goal into skills: goal templates, composite skills and their evaluation."""
