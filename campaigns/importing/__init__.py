"""Reading contact files (CSV, CSV in a ZIP, XLSX) row by row; plain Python, no Django."""
