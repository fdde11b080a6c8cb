"""Reports: charts and files made from the register and from plans."""
