"""Smart-area criteria: criteria sets as data, declared figures, documents, verdicts, reports."""
