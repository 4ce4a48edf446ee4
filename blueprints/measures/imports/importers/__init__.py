"""One module per file format (apple, csvfile, fhir), each a parse(chunks, collector); what
they share (the collector, Refused, units, times) is in common, the words CSV files use in
csvwords."""
