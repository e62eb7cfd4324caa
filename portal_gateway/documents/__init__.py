"""Documents a customer keeps: the invoice as a PDF, drawn with fpdf2 from what was true
when the invoice was issued, in the buyer's language."""
