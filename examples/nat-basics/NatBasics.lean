import NatBasics.Double
import NatBasics.Sum
