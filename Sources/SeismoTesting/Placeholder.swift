import SeismoCore
