"""cells: vanilla RNN, LSTM and GRU, each by hand-derived BPTT and on the tape."""
